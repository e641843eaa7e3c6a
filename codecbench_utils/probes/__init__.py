"""Semantic probes on frozen features: the embedding cache, the ASR probe and the classification probe.

Modules: ``features`` (feature sources: codec embeddings, log-mel baselines),
``cache`` (float16 memory-mapped feature store), ``config`` (probe profiles in
``params/probes``), ``asr`` (BiLSTM + CTC, WER), ``classification`` (pooled
linear/MLP probe, k-fold accuracy), ``results`` (result tables) and ``stage``
(the drivers notebooks 03 and 04 call). Nothing is imported here, so importing
the package stays cheap.
"""
