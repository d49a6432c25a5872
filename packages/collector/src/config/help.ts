/** `otlp-mmap-collector --help`: the usage lines and the option table. */
import { OPTIONS } from './options.js';

/** The `--help` text. */
export function helpText(): string {
  const lines = [
    'Usage: otlp-mmap-collector [options]            run beside the application, export until SIGTERM/SIGINT',
    '       otlp-mmap-collector dump FILE [options]  read FILE once, write everything unread as OTLP JSON lines, exit',
    '',
    'Without any endpoint, signals are written as OTLP JSON lines (one Export*ServiceRequest per line).',
    '',
    'Options (flag beats environment variable):',
  ];
  for (const o of OPTIONS) {
    const flag = `--${o.name}${o.arg ? ` ${o.arg}` : ''}`;
    lines.push(`  ${flag.padEnd(26)} ${o.help}${o.env ? ` [${o.env}]` : ''}`);
  }
  return lines.join('\n');
}

/** Whether the arguments ask for help. */
export function wantsHelp(argv: readonly string[]): boolean {
  return argv.includes('--help') || argv.includes('-h');
}
