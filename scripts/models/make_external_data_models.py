#!/usr/bin/python3
"""Two committed test models re-saved with their weights as ONNX external data:
test/fixtures/models/external-data/.

Run with Debian's onnx (1.12):
    /usr/bin/python3 scripts/models/make_external_data_models.py

Large exports keep their weights outside the .onnx file (protobuf messages stop at 2 GB): every
such tensor has `data_location = EXTERNAL` and `external_data` entries `location` (a path relative
to the model's directory), `offset` and `length` (docs/ExternalData.md of onnx/onnx). This script
writes the same weights that way, byte for byte, so that a test can compare the re-saved models
with the originals:
  nemo-ctc-128/model.onnx + model.onnx.data (the NeMo / onnx-asr naming), from
      test/fixtures/models/nemo-ctc-128;
  whisper-optimum-merged/encoder_model.onnx + encoder_model.onnx_data and
      decoder_model_merged.onnx + decoder_model_merged.onnx_data (Optimum's naming), from
      test/fixtures/models/whisper-optimum-merged; the merged decoder keeps every initializer
      inside the subgraphs of its `If` node, which onnx's helper walks too.
size_threshold=0: every initializer with raw data moves out, however small (the fixtures are tiny).
The Constant nodes' tensors stay in the .onnx file, as exporters leave them (convert_attribute=False:
ONNX Runtime 1.29's shape inference cannot read an attribute tensor from external data).
The configs and vocabularies are copied unchanged.
"""
import os
import shutil

import onnx
from onnx.external_data_helper import _get_all_tensors

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', '..')
MODELS = os.path.join(ROOT, 'test', 'fixtures', 'models')
OUT = os.path.join(MODELS, 'external-data')

# (source folder, {model file: data file}, other files copied as they are)
LAYOUTS = [
    ('nemo-ctc-128', {'model.onnx': 'model.onnx.data'}, ['vocab.txt']),
    (
        'whisper-optimum-merged',
        {
            'encoder_model.onnx': 'encoder_model.onnx_data',
            'decoder_model_merged.onnx': 'decoder_model_merged.onnx_data',
        },
        ['config.json', 'generation_config.json', 'preprocessor_config.json', 'tokenizer.json'],
    ),
]


def tensor_bytes(model: onnx.ModelProto) -> list:
    return [(t.name, t.raw_data) for t in _get_all_tensors(model)]


def main() -> None:
    for source, models, others in LAYOUTS:
        target = os.path.join(OUT, source)
        if os.path.exists(target):
            shutil.rmtree(target)
        os.makedirs(target)
        for model_file, data_file in models.items():
            model = onnx.load(os.path.join(MODELS, source, model_file))
            onnx.save_model(
                model,
                os.path.join(target, model_file),
                save_as_external_data=True,
                all_tensors_to_one_file=True,
                location=data_file,
                size_threshold=0,
            )
            # The re-saved model must hold the same tensors as the original once its data is read back.
            reloaded = onnx.load(os.path.join(target, model_file))
            original = onnx.load(os.path.join(MODELS, source, model_file))
            assert tensor_bytes(reloaded) == tensor_bytes(original), model_file
            print(f'{source}/{model_file}: {os.path.getsize(os.path.join(target, model_file))} bytes, '
                  f'{data_file}: {os.path.getsize(os.path.join(target, data_file))} bytes')
        for name in others:
            shutil.copyfile(os.path.join(MODELS, source, name), os.path.join(target, name))


if __name__ == '__main__':
    main()
