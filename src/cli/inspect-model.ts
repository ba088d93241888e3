/** `rote inspect-model DIR`: which model family rote detects, why, and how it will feed and decode it. */
import type { Command } from 'commander';
import { INSPECT_MODEL_OPTION_SPECS } from '../asr/options.ts';
import { resolveOptions, type OptionsOf } from '../util/options.ts';
import { addSpecOptions } from './options.ts';

const SIDECAR_HELP = `
A model rote does not recognize can be described by a rote-model.json next to it:
  {
    "format": 1, "family": "ctc", "model": "model.onnx",
    "inputs": { "features": "feats", "lengths": "feats_len", "layout": "BTF" },
    "output": "log_probs", "outputIsLogProbs": true,
    "frontend": { "type": "kaldi-fbank", "numBins": 80 },
    "vocabulary": { "file": "tokens.txt", "kind": "characters" },
    "blankId": 0, "subsampling": 4, "outputLengthRule": "ceil"
  }
(layout BTF = [batch, frames, bins], BFT = [batch, bins, frames]; frontend types:
kaldi-fbank, nemo-mel, sherpa-nemo-mel, with their options; lengths may be null.)`;

export function registerInspectModel(program: Command): void {
  const command = program
    .command('inspect-model')
    .description(
      'Show which model family rote detects in a directory and why, its inputs, outputs, metadata, frontend, vocabulary and subsampling.',
    )
    .argument('<dir>', 'model directory');
  addSpecOptions(command, INSPECT_MODEL_OPTION_SPECS);
  command
    .option('--json', 'print the report as JSON')
    .addHelpText('after', SIDECAR_HELP)
    .action(async (dir: string, flags: OptionsOf<typeof INSPECT_MODEL_OPTION_SPECS> & { json?: boolean }) => {
      const { provider, load, head, sherpaCompatible } = resolveOptions(INSPECT_MODEL_OPTION_SPECS, flags);
      const { createFrontend } = await import('../audio/index.ts');
      const { describeProviderReport, describeValueInfo, detectModel, externalDataStatus, loadModel } =
        await import('../asr/index.ts');
      const detected = await detectModel(dir, head ? { head } : {});
      const files = [];
      for (const f of detected.facts.onnx.values())
        files.push({
          path: f.path,
          metadata: f.metadata,
          inputs: f.inputs.map(describeValueInfo),
          outputs: f.outputs.map(describeValueInfo),
          externalData: await externalDataStatus(f),
        });
      let loaded = null;
      if (load) {
        const model = await loadModel(dir, {
          provider,
          ...(sherpaCompatible ? { sherpaCompatible: true } : {}),
          ...(head ? { head } : {}),
        });
        loaded = {
          info: model.info,
          frontendResolved: createFrontend(model.info.frontend).resolved,
          provider: model.provider,
        };
        await model.close();
      }
      if (flags.json) {
        process.stdout.write(
          `${JSON.stringify({ family: detected.family, detectedBecause: loaded?.info.detectedBecause ?? detected.because, files, ...(loaded ?? {}) }, null, 2)}\n`,
        );
        return;
      }
      const lines = [
        `family: ${detected.family}`,
        'detected because:',
        ...(loaded?.info.detectedBecause ?? detected.because).map((b) => `  - ${b}`),
        'files:',
      ];
      for (const f of files) {
        lines.push(`  ${f.path}`, `    inputs:  ${f.inputs.join(', ')}`, `    outputs: ${f.outputs.join(', ')}`);
        for (const data of f.externalData)
          lines.push(
            `    external data: ${data.location} (${data.tensors} tensor${data.tensors === 1 ? '' : 's'}${data.bytes === null ? '' : `, ${data.bytes} bytes`})` +
              (data.problem ? `: NOT USABLE: ${data.problem}` : ''),
          );
        if (Object.keys(f.metadata).length)
          lines.push(
            `    metadata: ${Object.entries(f.metadata)
              .map(([k, v]) => `${k}=${v}`)
              .join(', ')}`,
          );
      }
      if (loaded) {
        const { info } = loaded;
        const encoderDecoder = info.decoder?.kind === 'encoder-decoder';
        lines.push(
          encoderDecoder
            ? `vocabulary: ${info.vocabulary.size} tokens (${info.vocabulary.kind}), end-of-text id ${info.vocabulary.blankId}`
            : `vocabulary: ${info.vocabulary.size} tokens (${info.vocabulary.kind}), blank id ${info.vocabulary.blankId}`,
          `subsampling: ${info.subsampling}`,
          encoderDecoder
            ? 'decoding: attention encoder-decoder, greedy with the decoder cache; reference score: teacher-forced decoder log-likelihood ("decoder score")'
            : `decoding: ${info.isCtc ? 'CTC greedy' : info.decoder?.kind === 'tdt' ? `TDT greedy (durations ${info.decoder.durations.join(', ')})` : info.decoder?.kind === 'rnnt' ? 'RNNT greedy (NeMo)' : 'transducer greedy (stateless decoder)'}; reference score: ${info.isCtc ? 'CTC forced log-likelihood' : info.decoder ? `teacher-forced ${info.decoder.kind.toUpperCase()} log-likelihood` : 'none'}`,
          `frontend: ${Object.entries(loaded.frontendResolved)
            .map(([k, v]) => `${k}=${v}`)
            .join(', ')}`,
          `provider: ${describeProviderReport(loaded.provider)}`,
          'sha256:',
          ...info.files.map((f) => `  ${f.sha256}  ${f.path}`),
        );
      }
      process.stdout.write(`${lines.join('\n')}\n`);
    });
}
