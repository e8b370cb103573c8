/**
 * CDI's importer as a program (go/cdi-importer: kubevirt.io/containerized-data-importer's
 * pkg/importer at the CDI version pinned in versions.env). build-importer.sh builds it once per
 * machine into the cache outside the repo (KMF_CACHE_DIR, default
 * ~/.cache/kubevirt-machine-functions/bin/cdi-importer-<version>-<hash>/) and prints its path.
 */
import { onceBuilt } from './build-script.js';

/**
 * Runs build-importer.sh once per process (milliseconds when cached, ~5 minutes the first time
 * on a machine, its progress on our stderr) and returns the importer binary's absolute path.
 * Throws an Error naming the step that failed.
 */
export const ensureImporter: () => string = onceBuilt('build-importer.sh');
