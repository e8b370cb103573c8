/** The function runner lives with the local stack; tests use the same one. */
export { ensureBundles, freePort, startFunction, type FunctionServer } from '../../../dev/stack/functions.js';
