"""Data: reading images of any modality, the generic dataset layout and torch datasets.

* :mod:`.readers`       NIfTI, NRRD/MHA, PNG and DICOM (file or series folder) -> array + grid
* :mod:`.orientation`   axis permutation/flip to the canonical LPS axial orientation
* :mod:`.preprocess`    intensity normalisation and resampling of slices to the model grid
* :mod:`.layout`        the documented dataset folder layout, validated with one-line errors
* :mod:`.slices`        a dataset loaded as 2-D model-sized slices with their targets
* :mod:`.datasets`      torch datasets for denoising, segmentation and classification
* :mod:`.corruption`    motion ghosting (k-space line mixing) for the image-quality task
* :mod:`.tissue_state`  "fibrotic-like" liver: raised T1rho/T2 and re-synthesised signal
* :mod:`.liver_family`  the bundled liver-MR task family generated from the phantom
"""
