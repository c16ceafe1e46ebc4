"""Conditioning: speaker embeddings, instance normalisation, AdaIN."""
