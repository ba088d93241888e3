"""ONNX model metadata (metadata_props), as sherpa-onnx's export scripts write it: shared by the fixture scripts."""
import onnx


def add_metadata(path, metadata):
    """Replaces the metadata of the model at `path` with `metadata` (values written as strings)."""
    model = onnx.load(path)
    del model.metadata_props[:]
    for key, value in metadata.items():
        entry = model.metadata_props.add()
        entry.key, entry.value = key, str(value)
    onnx.save(model, path)
