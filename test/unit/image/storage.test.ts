import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { dataVolumeStorage } from '../../../shared/image/source.js';

const disk = () => ({ size: '10Gi', storageClassName: 'longhorn', accessMode: 'ReadWriteMany' });

test('storage target: spec.storage as in fixture nominal-case', () => {
  assert.equal(dataVolumeStorage(disk(), 'storage'), {
    storage: { accessModes: ['ReadWriteMany'], resources: { requests: { storage: '10Gi' } }, storageClassName: 'longhorn' },
  });
});

test('pvc target: spec.pvc with the same body', () => {
  assert.equal(dataVolumeStorage({ size: '20Gi', storageClassName: 'longhorn2', accessMode: 'ReadWriteMany' }, 'pvc'), {
    pvc: { accessModes: ['ReadWriteMany'], resources: { requests: { storage: '20Gi' } }, storageClassName: 'longhorn2' },
  });
});

test('an empty storageClassName is kept (machine-controller always sets the pointer)', () => {
  const out = dataVolumeStorage({ ...disk(), storageClassName: '' }, 'pvc');
  assert.ok('storageClassName' in out.pvc);
  assert.is(out.pvc.storageClassName, '');
});

test('each call returns a fresh object', () => {
  const a = dataVolumeStorage(disk(), 'storage');
  const b = dataVolumeStorage(disk(), 'storage');
  assert.is.not(a.storage, b.storage);
  assert.is.not(a.storage.accessModes, b.storage.accessModes);
});

test.run();
