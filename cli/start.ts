/**
 * `npm start`: the local stack. Not built yet (issue 6); says so instead of pretending.
 */
export async function startCommand(_argv: string[], _env: NodeJS.ProcessEnv): Promise<number> {
  process.stderr.write('npm start: the local stack (embedded control plane, function servers, event bridge) is not implemented yet — see issue 6.\n');
  return 1;
}
