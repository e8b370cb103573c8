import { test } from 'uvu';
import * as assert from 'uvu/assert';
import {
  QUANTITY_FORMAT_ERROR,
  QUANTITY_NUMERIC_ERROR,
  QUANTITY_SUFFIX_ERROR,
  isValidQuantity,
  parseQuantity,
} from '../../../shared/providerspec/quantity.js';

test('accepts the Kubernetes quantity grammar', () => {
  const valid = [
    '0',
    '1',
    '2',
    '250m',
    '1.5',
    '0.5',
    '.5',
    '1.',
    '100n',
    '10u',
    '1k',
    '2048M',
    '3G',
    '1T',
    '1P',
    '2E',
    '1Ki',
    '10Gi',
    '1.5Gi',
    '512Mi',
    '1Ti',
    '1Pi',
    '1Ei',
    '1e3',
    '1E3',
    '1e-3',
    '1e+3',
    '-1',
    '+1',
    '-',
    '+',
    '.',
    '00012',
    '123456789012345678901234',
    '1.0000000001n',
  ];
  for (const q of valid) assert.ok(isValidQuantity(q), `should accept ${q}`);
});

test('rejects empty and garbage with format errors', () => {
  for (const q of ['', 'abc', '10Gx', '1 Gi', ' 1', '1.5.5', '1Gi ', '1KI', '1Mb', '1e1.5', 'ten', '1,5']) {
    assert.throws(
      () => parseQuantity(q),
      (e: Error) => e.message === QUANTITY_FORMAT_ERROR,
      `should reject ${JSON.stringify(q)}`,
    );
  }
});

test('rejects unknown suffixes with the suffix error', () => {
  for (const q of ['1ki', '1e', '1mi', '1Gm', '1kk', '--1', '1e99999999999999999999']) {
    assert.throws(
      () => parseQuantity(q),
      (e: Error) => e.message === QUANTITY_SUFFIX_ERROR,
      `should reject ${q}`,
    );
  }
});

test('digit-less mantissa below nano is a numeric error, as in Go', () => {
  assert.throws(
    () => parseQuantity('e-10'),
    (e: Error) => e.message === QUANTITY_NUMERIC_ERROR,
  );
});

test('formats, zero detection and approximate values', () => {
  assert.is(parseQuantity('2Gi').format, 'BinarySI');
  assert.is(parseQuantity('2Gi').approx, 2 * 1024 ** 3);
  assert.is(parseQuantity('2048M').format, 'DecimalSI');
  assert.is(parseQuantity('2048M').approx, 2048e6);
  assert.is(parseQuantity('1e3').format, 'DecimalExponent');
  assert.is(parseQuantity('250m').approx, 0.25);
  for (const z of ['0', '0.0', '-0', '0m', '0Gi', '.']) assert.ok(parseQuantity(z).isZero, `${z} is zero`);
  for (const nz of ['1n', '0.0000000001', '1m']) assert.not.ok(parseQuantity(nz).isZero, `${nz} is not zero`);
  assert.ok(parseQuantity('-1').negative);
  assert.not.ok(parseQuantity('-0').negative);
});

test.run();
