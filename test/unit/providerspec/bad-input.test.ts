/**
 * The generated corpus of invalid providerSpecs (test/support/bad-specs.ts) through the real
 * parser: every case is refused with an issue that names its field, quotes the value it wrote
 * inline or names the Secret it came from, and never the Secret's value.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { badSpecs, CANARY } from '../../support/bad-specs.js';
import { flatSpec, nestedSpec, parseFail } from './helpers.js';

const cases = badSpecs({ nested: nestedSpec, flat: flatSpec }, 'machines-ns');

test('the corpus holds at least 200 invalid specs', () => {
  assert.ok(cases.length >= 200, `${cases.length} cases`);
});

for (const c of cases) {
  test(`refused: ${c.name}`, async () => {
    const issues = await parseFail(c.value, { secrets: c.secrets, configMaps: c.configMaps });
    const at = issues.filter((i) => i.path === c.path || i.path.startsWith(`${c.path}.`) || i.path.startsWith(`${c.path}[`));
    const all = issues.map((i) => i.message).join('\n');
    assert.ok(at.length > 0, `an issue at ${c.path}; got:\n${all}`);
    assert.ok(
      at.some((i) => i.message.includes(c.mentions) || i.message.includes(JSON.stringify(c.mentions).slice(1, -1))),
      `the message names ${c.mentions}:\n${all}`,
    );
    assert.not.ok(all.includes(CANARY) || JSON.stringify(issues).includes(CANARY), `no Secret value in the issues:\n${all}`);
  });
}

test.run();
