import { writeFileSync } from 'node:fs';
const on = process.env.TALLY_TRACE;
const rows: string[] = [];
export function trace(label: string, height: number): void {
  if (!on) return;
  rows.push(`${(performance.timeOrigin + performance.now()).toFixed(3)} ${label} ${height}`);
}
if (on) process.on('exit', () => writeFileSync(`${on}.${process.pid}`, rows.join('\n')));
