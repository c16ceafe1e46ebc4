"""Reading back what keras_ae wrote for TensorBoard, as TensorBoard itself reads it."""

from pathlib import Path

from google.protobuf import text_format
from tensorboard.backend.event_processing.event_accumulator import EventAccumulator
from tensorboard.plugins.projector import ProjectorConfig


def summary_steps(folder):
    """`{tag: [steps]}` of the TF2 summaries (images, audio, text, scalars, histograms) in an event folder."""
    accumulator = EventAccumulator(str(folder), size_guidance={"tensors": 0})
    accumulator.Reload()
    return {tag: [event.step for event in accumulator.Tensors(tag)] for tag in accumulator.Tags()["tensors"]}


def summary_plugins(folder):
    """`{tag: plugin name}` (images, audio, text, hparams, ...) of the summaries in an event folder."""
    accumulator = EventAccumulator(str(folder), size_guidance={"tensors": 0})
    accumulator.Reload()
    return {tag: accumulator.SummaryMetadata(tag).plugin_data.plugin_name for tag in accumulator.Tags()["tensors"]}


def read_projector(log_dir, name=None):
    """The projector config of tensor `name` (default: the only one), its metadata rows (header first when several
    columns) and embedding rows."""
    folder = Path(log_dir) / "projector"
    config = text_format.Parse((folder / "projector_config.pbtxt").read_text(), ProjectorConfig())
    (embedding,) = [e for e in config.embeddings if name in (None, e.tensor_name)]
    metadata = (folder / embedding.metadata_path).read_text(encoding="utf-8").splitlines()
    rows = (folder / embedding.tensor_path).read_text().splitlines()
    assert any(p.name.startswith("events.out.tfevents") for p in folder.iterdir()), "TensorBoard lists runs by events"
    return embedding, metadata, rows
