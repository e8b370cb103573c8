/**
 * Knative Eventing's ApiServerSource receive adapter (knative.dev/eventing
 * cmd/apiserver_receive_adapter at versions.env's KNATIVE_EVENTING) as a local program:
 * build-adapter.sh builds it once per machine into the cache outside the repo and prints its path.
 */
import { onceBuilt } from './build-script.js';

/**
 * Runs build-adapter.sh once per process (milliseconds when cached, ~4 minutes the first time
 * on a machine, its progress on our stderr) and returns the adapter binary's absolute path.
 * Throws an Error naming the step that failed.
 */
export const ensureAdapter: () => string = onceBuilt('build-adapter.sh');
