import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { SUPPORTED_OS } from '../../shared/providerspec/types.js';

test('supported operating systems match machine-controller', () => {
  assert.equal([...SUPPORTED_OS], ['ubuntu', 'rhel', 'flatcar', 'rockylinux']);
});

test.run();
