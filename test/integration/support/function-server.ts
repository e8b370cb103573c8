/** The function runner lives with the local stack; tests use the same one. */
export {
  ensureBundles,
  freePort,
  functionArgs,
  startFunction,
  type FunctionEntry,
  type FunctionServer,
} from '../../../dev/stack/functions.js';
