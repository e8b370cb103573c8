/**
 * What must hold before anything of a Machine is created on the infra cluster: its infra
 * target is usable, the image and network preflight pass, and (started here, awaited by the
 * provisioning) no foreign DataVolume holds one of its disks' names. Shared by the first
 * reconcile of a Machine and every later one that finds its VM not created yet.
 */
import type { Machine } from '../../shared/machine/types.js';
import type { MachineConfig } from '../../shared/providerspec/types.js';
import { ErrorReason } from '../../shared/constants.js';
import type { Outcome } from '../../shared/runtime/outcome.js';
import { infraNamespace, type ReconcileContext } from './context.js';
import { dataVolumeNames, foreignDataVolume } from './provision.js';
import { reportFailure, reportWaiting } from './report.js';
import { preflight } from './preflight.js';
import { infraTarget } from './infra-target.js';

export type BeforeCreate =
  | { ok: true; precheck: Promise<string | undefined> }
  /** Reports the fault on the Machine it is given (the caller may first have to amend it). */
  | { ok: false; report: (ctx: ReconcileContext, m: Machine) => Promise<Outcome> };

export async function beforeCreate(ctx: ReconcileContext, m: Machine, config: MachineConfig): Promise<BeforeCreate> {
  const target = await infraTarget(ctx, config.kubeconfig);
  if (!target.ok) {
    const { permanent, message } = target;
    return {
      ok: false,
      report: (c, at) =>
        permanent ? reportFailure(c, at, ErrorReason.InvalidConfiguration, message) : reportWaiting(c, at, 'InfraUnreachable', message),
    };
  }
  // Both read-only, so in parallel: the image/network preflight and the DataVolume
  // name-collision check the provisioning needs next.
  const precheck = foreignDataVolume(
    target.infra,
    infraNamespace(config.namespace, ctx.env),
    dataVolumeNames(m.metadata.name, config),
    m.metadata.uid,
  );
  precheck.catch(() => undefined); // awaited (and its error surfaced) in provision
  const pf = await preflight(ctx, config, target.infra);
  if (pf.ok) return { ok: true, precheck };
  return {
    ok: false,
    report: (c, at) =>
      pf.permanent
        ? reportFailure(c, at, ErrorReason.InvalidConfiguration, `${pf.reason}: ${pf.message}`)
        : reportWaiting(c, at, pf.reason, pf.message),
  };
}
