// Progress reports thinned out, so a fast loop does not flood its listener (or a worker's port).

/** Byte progress reported at most once a MiB (and at the end). */
export function everyMegabyte(report: (done: number, total: number) => void): (done: number, total: number) => void {
  const megabyte = 1 << 20;
  let last = -megabyte;
  return (done, total) => {
    if (done - last < megabyte && done !== total) return;
    last = done;
    report(done, total);
  };
}
