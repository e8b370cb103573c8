/**
 * The `kubevirt-machine-functions` command: `render` (offline preview) and `start` (local stack).
 */
import { renderCommand } from './render.js';

const USAGE = `Usage: kubevirt-machine-functions <command> [args]

Commands:
  render [FILE|-]   print the VirtualMachine and userdata Secret a Machine/MachineDeployment yields
  start             run the whole stack locally (see README)
`;

export async function main(argv: string[]): Promise<number> {
  const [cmd, ...rest] = argv;
  switch (cmd) {
    case 'render':
      return renderCommand(rest, process.env);
    case 'start': {
      const { startCommand } = await import('./start.js');
      return startCommand(rest, process.env);
    }
    default:
      process.stderr.write(USAGE);
      return cmd === undefined || cmd === '--help' ? 0 : 2;
  }
}

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (e) => {
    process.stderr.write(`error: ${(e as Error).message}\n`);
    process.exit(1);
  },
);
