/**
 * The machine function's view of shared/infra/target.ts (moved there: the datavolume and vmi
 * functions reach a Machine's infra cluster through the same guarded path).
 */
import { infraTarget as sharedInfraTarget, type InfraTarget } from '../../shared/infra/target.js';
import type { ReconcileContext } from './context.js';

export type { InfraTarget };

export function infraTarget(ctx: ReconcileContext, kubeconfig: string | undefined): Promise<InfraTarget> {
  return sharedInfraTarget(
    { env: ctx.env, infraFor: (k) => ctx.infraFor(k), resolve: ctx.preflight.resolve, allow: ctx.preflight.allow },
    kubeconfig,
  );
}
