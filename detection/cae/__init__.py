"""The convolutional autoencoder detector: learn an area's normal look, flag what it cannot reconstruct.

Parts, one file each: `config` (the frozen CAEConfig and its named presets), `model` (networks and
builders), `losses`, `anomaly_map` (error maps and frame scores), `tiling` (high-resolution frames as
overlapping tiles), `windows` (10-frame sequence input), `scoring` (CAEDetector), `train`.
"""
