/**
 * The files an ONNX model keeps its weights in when they are not inside the .onnx file
 * (ONNX "external data": exports over protobuf's 2 GB limit, Optimum's `*.onnx_data`,
 * NeMo's `*.onnx.data`, torch.onnx.export's one file per tensor). onnx-file.ts reads which
 * files a model names; here they are found beside the model (a `location` is relative to the
 * model's directory, as ONNX Runtime resolves it when a session is created from the file's
 * path) and checked before ONNX Runtime opens the model, whose own error names neither file.
 */
import { stat } from 'node:fs/promises';
import { dirname, isAbsolute, join, normalize, sep } from 'node:path';
import { RoteError } from '../util/errors.ts';
import type { OnnxExternalFile, OnnxFileFacts } from './onnx-file.ts';

/** Where a model's external data file lies, or null when `location` is not a path inside the model's directory. */
export function externalDataPath(modelPath: string, location: string): string | null {
  const relativePath = normalize(location);
  if (isAbsolute(location) || relativePath === '..' || relativePath.startsWith(`..${sep}`)) return null;
  return join(dirname(modelPath), relativePath);
}

/** One external data file of a model, as found on disk. */
export interface ExternalDataStatus extends OnnxExternalFile {
  /** Its full path; null when the location points outside the model's directory. */
  path: string | null;
  /** Its size; null when it is not there. */
  bytes: number | null;
  /** Why the model cannot be opened with it (a sentence naming the model file and the data file); null when it is fine. */
  problem: string | null;
}

function tensorCount(file: OnnxExternalFile): string {
  return `${file.tensors} tensor${file.tensors === 1 ? '' : 's'}`;
}

async function statusOf(modelPath: string, file: OnnxExternalFile): Promise<ExternalDataStatus> {
  const path = externalDataPath(modelPath, file.location);
  const keeps = `${modelPath}: keeps the data of ${tensorCount(file)} in "${file.location}"`;
  if (path === null)
    return {
      ...file,
      path,
      bytes: null,
      problem:
        `${keeps}, which is not a path inside the model's folder; ONNX external data lies beside the model ` +
        "(a relative path without '..'): re-save the model with onnx.save_model(model, path, save_as_external_data=True, location='<file name>')",
    };
  const missing = (why: string): ExternalDataStatus => ({
    ...file,
    path,
    bytes: null,
    problem:
      `${keeps}, but ${path} is missing (${why}); a large export is the .onnx file and its data file(s): ` +
      'put every one of them in the folder of the .onnx file (download or copy it again)',
  });
  let info;
  try {
    info = await stat(path);
  } catch (error) {
    return missing((error as NodeJS.ErrnoException).code ?? (error as Error).message);
  }
  if (!info.isFile()) return missing('not a file');
  return {
    ...file,
    path,
    bytes: info.size,
    problem:
      info.size < file.minBytes
        ? `${path}: ${info.size} bytes, but ${modelPath} reads tensor data up to byte ${file.minBytes} of it; ` +
          'the data file is incomplete (an interrupted download or copy?): fetch it again'
        : null,
  };
}

/** Every external data file of a model file, found beside it (for inspect-model). */
export async function externalDataStatus(facts: OnnxFileFacts): Promise<ExternalDataStatus[]> {
  return Promise.all(facts.externalData.map((file) => statusOf(facts.path, file)));
}

/**
 * The full paths of the files a model keeps tensor data in, after checking that each lies inside the
 * model's directory, is there, and holds every byte the model reads from it; a RoteError naming the
 * model file and the data file otherwise.
 */
export async function externalDataPaths(facts: OnnxFileFacts): Promise<string[]> {
  const found = await externalDataStatus(facts);
  const problem = found.find((file) => file.problem !== null)?.problem;
  if (problem) throw new RoteError(problem);
  return found.map((file) => file.path!);
}
