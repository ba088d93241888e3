/**
 * An external TTS engine: a shell command template run once per canary, e.g.
 *   --tts-command 'espeak-ng -v {voice} -s {rate} -p {pitch} -w {out} {text}'
 * Placeholders {text}, {out}, {voice}, {rate}, {pitch} are replaced by the
 * value single-quoted for /bin/sh (so any text is passed as one argument,
 * never interpreted by the shell); the command must write a WAV file to {out}.
 */
import { execFile } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { RoteError } from '../util/errors.ts';
import { OptionError } from '../util/options.ts';
import { readWav } from '../audio/wav.ts';
import type { SpeechOptions, SynthesizedSpeech } from './espeak.ts';

export const COMMAND_PLACEHOLDERS = ['text', 'out', 'voice', 'rate', 'pitch'] as const;

/** Quotes a value for POSIX sh: wrapped in single quotes, each ' written as '\''. */
export function shellQuote(value: string): string {
  return `'${value.replace(/'/g, `'\\''`)}'`;
}

/** Checks a --tts-command template: it must contain {text} and {out}, and only known placeholders. */
export function validateCommandTemplate(template: string): void {
  for (const match of template.matchAll(/\{([a-z]+)\}/g)) {
    if (!(COMMAND_PLACEHOLDERS as readonly string[]).includes(match[1]!)) {
      throw new OptionError(
        (name) =>
          `${name('ttsCommand')}: unknown placeholder {${match[1]}}; known: ${COMMAND_PLACEHOLDERS.map((p) => `{${p}}`).join(', ')}`,
      );
    }
  }
  for (const required of ['text', 'out']) {
    if (!template.includes(`{${required}}`))
      throw new OptionError(
        (name) =>
          `${name('ttsCommand')} must contain {${required}} (the command gets the text as {text} and writes a WAV file to {out})`,
      );
  }
}

export function expandCommandTemplate(
  template: string,
  values: Record<(typeof COMMAND_PLACEHOLDERS)[number], string>,
): string {
  return template.replace(/\{(text|out|voice|rate|pitch)\}/g, (_, name: keyof typeof values) =>
    shellQuote(values[name]),
  );
}

/** Runs the command for one utterance and reads the WAV it wrote (any rate; channels averaged). */
export async function synthesizeWithCommand(
  template: string,
  text: string,
  options: SpeechOptions = {},
): Promise<SynthesizedSpeech> {
  const directory = await mkdtemp(join(tmpdir(), 'rote-tts-'));
  const out = join(directory, 'utterance.wav');
  const command = expandCommandTemplate(template, {
    text,
    out,
    voice: options.voice ?? '',
    rate: String(options.rate ?? ''),
    pitch: String(options.pitch ?? ''),
  });
  try {
    await new Promise<void>((resolve, reject) => {
      execFile('/bin/sh', ['-c', command], { maxBuffer: 16 * 1024 * 1024 }, (error, _stdout, stderr) => {
        if (error) {
          const how = error.signal
            ? `killed by ${error.signal}`
            : typeof error.code === 'number'
              ? `exit code ${error.code}`
              : String(error.code ?? error.message);
          reject(
            new RoteError(
              `--tts-command failed (${how}) for text "${text}": ${command}${stderr ? `\n${stderr.trim()}` : ''}`,
            ),
          );
        } else resolve();
      });
    });
    const audio = await readWav(out).catch((error: unknown) => {
      throw new RoteError(
        `--tts-command did not write a readable WAV to {out} for text "${text}": ${(error as Error).message}`,
      );
    });
    return { samples: audio.samples, sampleRate: audio.sampleRate };
  } finally {
    await rm(directory, { recursive: true, force: true });
  }
}
