/**
 * For the crash-safety tests only: TABLEVAULT_TEST_KILL_AT=<point>:<n> sends this process SIGKILL
 * the n-th time the run reaches <point> (backup: after-upload, after-commit, before-plan-finish (an
 * incremental run in chunks, once every chunk is durable); sync: sync-part, after
 * a part of a multipart copy is stored);
 * TABLEVAULT_TEST_PAUSE_AT=<point>:<ms> waits there, so a test can run a second backup meanwhile.
 */
export function testHook(): ((point: string) => Promise<void>) | undefined {
  const kill = process.env.TABLEVAULT_TEST_KILL_AT?.split(':');
  const pause = process.env.TABLEVAULT_TEST_PAUSE_AT?.split(':');
  if (!kill && !pause) return undefined;
  let seen = 0;
  return async (point) => {
    if (kill && point === kill[0] && ++seen === Number(kill[1] ?? 1)) process.kill(process.pid, 'SIGKILL');
    if (pause && point === pause[0]) await new Promise((r) => setTimeout(r, Number(pause[1] ?? 1000)));
  };
}
