/**
 * For the crash-safety tests only: TABLEVAULT_TEST_KILL_AT=<point>:<n> sends this process SIGKILL
 * the n-th time the run reaches <point> (backup: after-upload, after-commit, before-plan-finish (an
 * incremental run in chunks, once every chunk is durable); sync: sync-part, after
 * a part of a multipart copy is stored);
 * TABLEVAULT_TEST_STOP_AT=<point>:<n> sends it SIGSTOP there instead (a worker paused past its
 * lease, as by a long GC pause or a partition, until the test sends SIGCONT);
 * TABLEVAULT_TEST_PAUSE_AT=<point>:<ms> waits there, so a test can run a second backup meanwhile.
 */
export function testHook(): ((point: string) => Promise<void>) | undefined {
  const kill = process.env.TABLEVAULT_TEST_KILL_AT?.split(':');
  const stop = process.env.TABLEVAULT_TEST_STOP_AT?.split(':');
  const pause = process.env.TABLEVAULT_TEST_PAUSE_AT?.split(':');
  if (!kill && !stop && !pause) return undefined;
  let killSeen = 0;
  let stopSeen = 0;
  return async (point) => {
    if (kill && point === kill[0] && ++killSeen === Number(kill[1] ?? 1)) process.kill(process.pid, 'SIGKILL');
    if (stop && point === stop[0] && ++stopSeen === Number(stop[1] ?? 1)) process.kill(process.pid, 'SIGSTOP');
    if (pause && point === pause[0]) await new Promise((r) => setTimeout(r, Number(pause[1] ?? 1000)));
  };
}
