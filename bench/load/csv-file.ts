// The load benchmarks' input: an orders CSV of any size (~52 bytes a row), written once per size.
import { createWriteStream, existsSync } from 'node:fs';
import { once } from 'node:events';
import path from 'node:path';

const STATUSES = ['new', 'paid', 'shipped', 'cancelled'];

export async function ordersCsv(dir: string, rows: number): Promise<string> {
  const file = path.join(dir, `orders-${rows}.csv`);
  if (existsSync(file)) return file;
  const out = createWriteStream(file);
  out.write('id,customer,status,amount,created_at\n');
  for (let i = 1; i <= rows; i++) {
    const line = `${i},customer-${i % 9973},${STATUSES[i % 4]},${((i * 7919) % 100000) / 100},2026-0${(i % 9) + 1}-1${i % 10}T10:${String(i % 60).padStart(2, '0')}:00\n`;
    if (!out.write(line)) await once(out, 'drain');
  }
  out.end();
  await once(out, 'finish');
  return file;
}
