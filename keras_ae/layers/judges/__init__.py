"""Judges: say whether a code represents its input (`judge_loss(batch, code, training) -> [batch]`)."""
