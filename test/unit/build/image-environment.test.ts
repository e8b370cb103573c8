import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { imageEnvironment } from '../../../dev/stack/functions.js';

test("the repository's Dockerfile: the runtime stage's ENV, without paths inside the image", () => {
  const env = imageEnvironment();
  assert.equal(env.NODE_ENV, 'production');
  assert.equal(env.GLIBC_TUNABLES, 'glibc.malloc.hugetlb=1');
  assert.not.ok('PATH' in env);
  assert.not.ok('NODE_COMPILE_CACHE' in env);
});

test('only the last stage counts; ENV lines of the build stage are not the runtime environment', () => {
  const dockerfile = [
    'FROM node:24-slim AS build',
    'ENV BUILD_ONLY=1',
    'RUN true',
    'FROM node:24-slim',
    'ENV NODE_ENV=production',
    'ENV PATH=/app/node_modules/.bin:$PATH',
    'ENV GLIBC_TUNABLES=glibc.malloc.hugetlb=1',
  ].join('\n');
  assert.equal(imageEnvironment(dockerfile), { NODE_ENV: 'production', GLIBC_TUNABLES: 'glibc.malloc.hugetlb=1' });
});

test.run();
