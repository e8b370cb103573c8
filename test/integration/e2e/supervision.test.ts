/**
 * The local stack supervises its function processes (issue 15): one that dies is started again
 * on its port after a backoff, with a log line naming it, its exit and the restart; stop() ends
 * everything within seconds whether a function runs, is dead and waiting for its restart, or is
 * starting again.
 */
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { adminKube } from '../support/admin.js';
import { eventually, freshNamespace, uniqueName } from '../support/kube.js';
import { superviseFunction, type SupervisedFunction } from '../../../dev/stack/functions.js';
import type { Stack } from '../../../dev/stack/index.js';
import {
  MACHINES,
  createMachine,
  exampleMachineSpec,
  isReady,
  machinesIn,
  sleep,
  startTestStack,
  type MachineObj,
} from './stack-support.js';
import http from 'node:http';
import { freePort } from '../support/function-server.js';

const test = suite('e2e: the local stack restarts a function process that dies');
const say = (line: string) => console.log(`    [supervision e2e] ${line}`);

const alive = (pid: number | undefined): boolean => {
  if (pid === undefined) return false;
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
};

/** Any answer at all: the port is served. */
const answers = async (url: string): Promise<boolean> => {
  try {
    await (await fetch(url, { method: 'POST', body: '' })).arrayBuffer();
    return true;
  } catch {
    return false;
  }
};

async function waitFor(what: string, check: () => boolean | Promise<boolean>, timeoutMs: number, detail = () => ''): Promise<void> {
  try {
    await eventually(what, async () => await check(), { timeoutMs, intervalMs: 20 });
  } catch (e) {
    throw new Error(`${(e as Error).message}\n${detail()}`, { cause: e });
  }
}

test('a supervised function: restarted on its port with doubling delays; stop() while it waits or while it starts', async () => {
  const lines: string[] = [];
  const start = async () =>
    superviseFunction(
      'machine',
      { KUBECONFIG: '/dev/null' },
      { port: await freePort(), log: (l) => lines.push(l), backoff: { initialMs: 300, maxMs: 1200, resetAfterMs: 60_000 } },
    );
  const fn: SupervisedFunction = await start();
  const show = () => lines.join('\n');
  try {
    const delays: number[] = [];
    for (let i = 1; i <= 2; i++) {
      const pid = fn.pid;
      const t0 = Date.now();
      process.kill(pid!, 'SIGKILL');
      await waitFor(`restart ${i}`, () => fn.restarts === i, 15_000, show);
      delays.push(Date.now() - t0);
      assert.ok(fn.pid !== pid && alive(fn.pid), 'a new process');
      assert.ok(await answers(fn.url), 'serving on the same port');
      assert.ok(
        lines.some((l) => l.startsWith(`function machine (pid ${pid}) died: signal SIGKILL after `)),
        `death logged with its signal:\n${show()}`,
      );
      assert.ok(
        lines.some((l) => l.startsWith(`function machine restarted on port ${fn.port} (pid ${fn.pid}, restart ${i})`)),
        show(),
      );
    }
    assert.match(show(), /restarting it in 300 ms[\s\S]*restarting it in 600 ms/, 'the delay doubles');
    assert.ok(delays[1] >= 600, `second restart after its 600 ms delay (${delays.join(', ')} ms)`);
    say(`kill -9 → serving again after ${delays.join(' ms, then ')} ms (delays 300, 600 ms + start)`);

    // Dead and waiting for its restart (1200 ms now): stop() returns at once, nothing restarts.
    const pid = fn.pid;
    process.kill(pid!, 'SIGKILL');
    await waitFor('death noticed', () => lines.some((l) => l.startsWith(`function machine (pid ${pid}) died`)), 5_000, show);
    let t = Date.now();
    await fn.stop();
    const stopWaiting = Date.now() - t;
    assert.ok(stopWaiting < 1000, `stop() while waiting to restart took ${stopWaiting} ms`);
    await sleep(1500);
    assert.is(fn.restarts, 2, 'not restarted after stop()');
    assert.not.ok(await answers(fn.url), 'nothing serves its port');

    // Starting again (spawned, not yet answering): stop() ends that process too.
    const fn2 = await start();
    const first = fn2.pid;
    process.kill(first!, 'SIGKILL');
    await waitFor('restart spawned', () => fn2.pid !== first, 5_000, show);
    const starting = fn2.pid;
    t = Date.now();
    await fn2.stop();
    const stopStarting = Date.now() - t;
    assert.ok(stopStarting < 4000, `stop() while starting took ${stopStarting} ms`);
    assert.not.ok(alive(starting), 'the starting process is gone');
    assert.is(fn2.restarts, 0);
    say(`stop() while waiting to restart: ${stopWaiting} ms; while starting: ${stopStarting} ms`);
  } finally {
    await fn.stop();
  }
});

test("npm start's entry (the server bundle, as in the image) refuses a body over MAX_EVENT_BYTES with 413 before reading it", async () => {
  const lines: string[] = [];
  const fn = await superviseFunction(
    'machine',
    { KUBECONFIG: '/dev/null', MAX_EVENT_BYTES: '1024' },
    {
      port: await freePort(),
      log: (l) => lines.push(l),
    },
  );
  try {
    // Declares 10 MiB but sends 1 KiB and waits: only a server that refuses before reading
    // answers at all (one that reads first would wait for the rest of the body).
    const status = await new Promise<number | 'no answer'>((resolve) => {
      const req = http.request(fn.url, {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'content-length': String(10 * 1024 * 1024), 'ce-specversion': '1.0' },
      });
      const timer = setTimeout(() => {
        req.destroy();
        resolve('no answer');
      }, 3000);
      req.on('response', (res) => {
        clearTimeout(timer);
        res.resume();
        req.destroy();
        resolve(res.statusCode ?? 0);
      });
      req.on('error', () => {}); // after destroy(); a refused connection shows as 'no answer'
      req.write('x'.repeat(1024));
    });
    assert.is(status, 413, lines.join('\n'));
  } finally {
    await fn.stop();
  }
});

test('the stack: kill -9 of the machine function → restart log line, a Machine created afterwards Ready; stop() within 10 s', async () => {
  let stack: Stack | undefined;
  try {
    const t0 = Date.now();
    const started = await startTestStack();
    stack = started.stack;
    const { logLines, logTail } = started;
    say(`stack up in ${Date.now() - t0} ms`);
    const fn = stack.functions.machine;
    const { port } = fn;
    const pid = fn.pid!;

    const tKill = Date.now();
    process.kill(pid, 'SIGKILL');
    await waitFor(
      'the machine function restarted',
      () => logLines().some((l) => l.startsWith('function machine restarted on port')),
      20_000,
      logTail,
    );
    const restartMs = Date.now() - tKill;
    const died = logLines().find((l) => l.startsWith(`function machine (pid ${pid}) died`));
    assert.ok(died, `a line names the function, its pid and exit:\n${logTail()}`);
    assert.match(died!, /died: signal SIGKILL after \d+ ms up; restarting it in 500 ms/);
    assert.is(fn.port, port, 'same port: the Triggers still point at it');
    assert.ok(fn.pid !== pid && alive(fn.pid));

    const ns = await freshNamespace('e2e-supervised');
    const name = uniqueName('after-restart');
    const tCreate = Date.now();
    await createMachine(adminKube(), ns, name, exampleMachineSpec(stack.imageUrl));
    await waitFor(
      `${name} Ready`,
      async () => isReady(await adminKube().get<MachineObj>(`${MACHINES}/namespaces/${ns}/machines/${name}`)),
      60_000,
      logTail,
    );
    const readyMs = Date.now() - tCreate;

    // Clean up while the functions run (the finalizer goes once the VM is gone).
    await adminKube().delete(`${MACHINES}/namespaces/${ns}/machines/${name}`);
    await eventually('test Machine deleted', async () => (await machinesIn(adminKube(), ns)).length === 0, { timeoutMs: 30_000 });

    // Stop while a function is down and waiting for its restart.
    const pids = Object.values(stack.functions).map((f) => f.pid);
    process.kill(stack.functions.vmi.pid!, 'SIGKILL');
    await sleep(100);
    const tStop = Date.now();
    await stack.stop();
    const stopMs = Date.now() - tStop;
    stack = undefined;
    assert.ok(stopMs < 10_000, `stop() took ${stopMs} ms`);
    assert.equal(
      pids.filter((p) => alive(p)),
      [],
      'no function process left',
    );
    say(
      `machine function restarted ${restartMs} ms after kill -9; Machine created afterwards Ready in ${readyMs} ms; stop() with a function down: ${stopMs} ms`,
    );
  } finally {
    await stack?.stop();
  }
});

test.run();
