// The results table (what people read) and bench/results/latest.json (what tools read), with the
// machine they were measured on: on a shared 2-core box the ratios mean more than the absolutes.
import { mkdirSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { goalMet, goalText, ratioOf, summarise, type Figure, type Summary } from './figures.js';

export interface Machine {
  cpu: string;
  cores: number;
  memoryGb: number;
  node: string;
  postgres: string | null;
  loadAverage: number[];
  date: string;
}

export function machine(postgres: string | null): Machine {
  return {
    cpu: os.cpus()[0]?.model ?? 'unknown',
    cores: os.cpus().length,
    memoryGb: Math.round((os.totalmem() / 1024 ** 3) * 10) / 10,
    node: process.version,
    postgres,
    loadAverage: os.loadavg().map((l) => Math.round(l * 100) / 100),
    date: new Date().toISOString(),
  };
}

export function formatNumber(value: number): string {
  const abs = Math.abs(value);
  if (abs >= 1000) return Math.round(value).toLocaleString('en-US');
  if (abs >= 100) return value.toFixed(0);
  if (abs >= 10) return value.toFixed(1);
  return value.toFixed(2);
}

const spread = (s: Summary | null) =>
  s ? `${formatNumber(s.median)} (${formatNumber(s.min)}–${formatNumber(s.max)})` : '–';

export function table(figures: Figure[]): string {
  const rows = [
    [
      'figure',
      'unit',
      'ours: median (min–max)',
      'baseline',
      'baseline: median (min–max)',
      'ratio',
      'goal',
      '',
    ],
    ...figures.map((f) => {
      const ratio = ratioOf(f);
      const met = goalMet(f);
      return [
        `${f.bench}: ${f.name}`,
        f.unit,
        spread(summarise(f.ours)),
        f.baselineName,
        spread(summarise(f.baseline)),
        ratio === null ? '–' : `${ratio.toFixed(2)}x`,
        goalText(f.goal, f.unit),
        met === null ? '' : met ? 'ok' : 'MISS',
      ];
    }),
  ];
  const widths = rows[0]!.map((_, c) => Math.max(...rows.map((r) => r[c]!.length)));
  const line = (r: string[]) => `| ${r.map((cell, c) => cell.padEnd(widths[c]!)).join(' | ')} |`;
  return [
    line(rows[0]!),
    `|${widths.map((w) => '-'.repeat(w + 2)).join('|')}|`,
    ...rows.slice(1).map(line),
  ].join('\n');
}

export function writeResults(
  file: string,
  data: { machine: Machine; repeat: number; figures: Figure[]; notes: string[] },
) {
  mkdirSync(path.dirname(file), { recursive: true });
  const figures = data.figures.map((f) => ({
    ...f,
    oursSummary: summarise(f.ours),
    baselineSummary: summarise(f.baseline),
    ratio: ratioOf(f),
    goalText: goalText(f.goal, f.unit),
    goalMet: goalMet(f),
  }));
  writeFileSync(file, `${JSON.stringify({ ...data, figures }, null, 2)}\n`);
}
