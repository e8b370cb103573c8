/**
 * The nested schema's disks: the primary disk with its OS image (machine-controller's
 * `parseOSImageSource` inputs, `storageTarget`, `pvcSize`, `storageClassName`) and the
 * secondary disks (`configureStorage`). Access types left empty stay undefined: the I/O layer
 * asks the infra cluster's StorageProfile, as machine-controller does.
 */
import { type ConfigVarString, resolveString } from './configvar.js';
import { type RuleContext, checkQuantity, resolveField } from './field-rules.js';
import { errorMessage, joinPath } from './issues.js';
import type { NestedSpec } from './provider-spec.js';
import type { DiskSpec, ImageSpec, PrimaryDiskSpec } from './types.js';

type Template = NonNullable<NonNullable<NestedSpec['virtualMachine']>['template']>;
type PrimaryDisk = NonNullable<Template['primaryDisk']>;
type SecondaryDisk = NonNullable<Template['secondaryDisks']>[number];

const KNOWN_SOURCES = ['', 'http', 'registry', 'pvc'];
const KNOWN_TARGETS = ['', 'pvc', 'storage'];

/** `Name: value` headers as they may appear in an issue: names only, values are credentials. */
function headerNames(headers: string[]): string[] {
  return headers.map((h) => `${h.split(':')[0]}: <redacted>`);
}

/**
 * A storage access type: machine-controller ignores errors resolving it (and then asks the
 * StorageProfile); we do the same but say so.
 */
async function resolveAccessType(ctx: RuleContext, cv: ConfigVarString | undefined, path: string): Promise<string | undefined> {
  try {
    return (await resolveString(cv, ctx.resolver)) || undefined;
  } catch (err) {
    ctx.report.warn(
      `${path}: failed to get value of storageAccessType: ${errorMessage(err)}; ignored as machine-controller does (the StorageProfile decides)`,
    );
    return undefined;
  }
}

/** `pullMethod`: '' → node; node | pod; anything else is an error. */
function checkPullMethod(ctx: RuleContext, value: string, path: string): 'node' | 'pod' {
  if (value === '' || value === 'node') return 'node';
  if (value === 'pod') return 'pod';
  ctx.report.fail(
    path,
    value,
    `failed to get value of "osImageSource" field: failed to get value of "primaryDisk.pullMethod" field: unsupported value: ${value}`,
  );
  return 'node';
}

async function resolveImage(ctx: RuleContext, pd: PrimaryDisk, base: string): Promise<ImageSpec> {
  const wrap = 'failed to get value of "osImageSource" field: failed to get value of';
  const extraHeaders = pd.extraHeaders ?? [];
  const dataVolumeSecretRef = await resolveField(
    ctx,
    pd.dataVolumeSecretRef,
    joinPath(base, 'dataVolumeSecretRef'),
    'failed to get value of "dataVolumeSecretRef" field',
  );
  const extraHeadersSecretRef = await resolveField(
    ctx,
    pd.extraHeadersSecretRef,
    joinPath(base, 'extraHeadersSecretRef'),
    'failed to get value of "extraHeadersSecretRef" field',
  );
  if (extraHeaders.length > 0 && extraHeadersSecretRef) {
    ctx.report.fail(
      joinPath(base, 'extraHeadersSecretRef'),
      { extraHeaders: headerNames(extraHeaders), extraHeadersSecretRef },
      'field "extraHeaders" and "extraHeadersSecretRef" are mutually exclusive',
    );
  }
  const osImagePath = joinPath(base, 'osImage');
  const osImage = (await resolveField(ctx, pd.osImage, osImagePath, `${wrap} "primaryDisk.osImage" field`)) ?? '';
  if (osImage === '' && !ctx.report.issues.some((i) => i.path === osImagePath)) {
    ctx.report.fail(osImagePath, osImage, 'failed to get value of "osImageSource" field: "primaryDisk.osImage" must be set');
  }
  const sourcePath = joinPath(base, 'source');
  const source = (await resolveField(ctx, pd.source, sourcePath, `${wrap} "primaryDisk.source" field`)) ?? '';
  if (!KNOWN_SOURCES.includes(source)) {
    ctx.report.warn(`${sourcePath}: unknown source "${source}"; the image source is detected from osImage as machine-controller does`);
  }
  const pullPath = joinPath(base, 'pullMethod');
  const pullMethod = await resolveField(ctx, pd.pullMethod, pullPath, `${wrap} "primaryDisk.pullMethod" field`);
  return {
    osImage,
    source,
    pullMethod: checkPullMethod(ctx, pullMethod ?? '', pullPath),
    ...(extraHeaders.length > 0 && { extraHeaders }),
    ...(extraHeadersSecretRef && { extraHeadersSecretRef }),
    ...(dataVolumeSecretRef && { dataVolumeSecretRef }),
  };
}

/** The primary disk, in machine-controller's getConfig order. */
export async function resolvePrimaryDisk(ctx: RuleContext, pd: PrimaryDisk | undefined, base: string): Promise<PrimaryDiskSpec> {
  const disk = pd ?? {};
  const image = await resolveImage(ctx, disk, base);
  const targetPath = joinPath(base, 'storageTarget');
  const target = (await resolveField(ctx, disk.storageTarget, targetPath, 'failed to get value of "storageTarget" field')) ?? '';
  if (!KNOWN_TARGETS.includes(target)) {
    ctx.report.warn(`${targetPath}: unknown storageTarget "${target}"; using "storage" as machine-controller does`);
  }
  const sizePath = joinPath(base, 'size');
  const size = await resolveField(ctx, disk.size, sizePath, 'failed to get value of "pvcSize" field');
  if (size !== undefined) checkQuantity(ctx, sizePath, size, 'failed to parse value of "pvcSize" field');
  const storageClassName = await resolveField(
    ctx,
    disk.storageClassName,
    joinPath(base, 'storageClassName'),
    'failed to get value of "storageClassName" field',
  );
  const storageAccessType = await resolveAccessType(ctx, disk.storageAccessType, joinPath(base, 'storageAccessType'));
  return {
    size: size ?? '',
    storageClassName: storageClassName ?? '',
    ...(storageAccessType && { storageAccessType }),
    storageTarget: target === 'pvc' ? 'pvc' : 'storage',
    image,
  };
}

/** Secondary disks (`configureStorage`); each becomes `<machine>-secondarydisk<i>`. */
export async function resolveSecondaryDisks(ctx: RuleContext, disks: SecondaryDisk[] | undefined, base: string): Promise<DiskSpec[]> {
  const out: DiskSpec[] = [];
  const wrap = 'failed to configure storage';
  for (const [i, disk] of (disks ?? []).entries()) {
    const at = joinPath(base, i);
    const sizePath = joinPath(at, 'size');
    const size = await resolveField(ctx, disk.size, sizePath, `${wrap}: failed to parse "secondaryDisks.size" field`);
    if (size !== undefined) checkQuantity(ctx, sizePath, size, `${wrap}: failed to parse value of "secondaryDisks.size" field`);
    const storageClassName = await resolveField(
      ctx,
      disk.storageClassName,
      joinPath(at, 'storageClassName'),
      `${wrap}: failed to parse value of "secondaryDisks.storageClass" field`,
    );
    const storageAccessType = await resolveAccessType(ctx, disk.storageAccessType, joinPath(at, 'storageAccessType'));
    out.push({ size: size ?? '', storageClassName: storageClassName ?? '', ...(storageAccessType && { storageAccessType }) });
  }
  return out;
}
