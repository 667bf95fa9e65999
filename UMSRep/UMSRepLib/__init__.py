"""UMSRepLib: unified modality-specific representation (UMS-Rep) for liver MR analysis.

Method of Zamzmi, Rajaraman & Antani, "UMS-Rep: Unified modality-specific representation
for efficient medical image analysis" (Informatics in Medicine Unlocked 24, 2021,
100571; arXiv:2006.11223): a convolutional denoising autoencoder is trained once per
modality without labels; its encoder is the *shared representation*, and light task
heads (a segmentation decoder, classifiers, the denoising decoder itself) are
fine-tuned on top of it instead of training one end-to-end network per task.

Pure Python (numpy, torch, SimpleITK); never imports Qt or the Slicer application.
Packages, one purpose each:

* :mod:`.networks`   encoder, heads, the multi-head model and its architecture spec
* :mod:`.data`       image readers, the generic dataset layout, torch datasets and the
  bundled liver-MR task family generated from the digital phantom
* :mod:`.training`   label-free pretraining, fine-tuning strategies (independent,
  alternating, joint) and the separate end-to-end baseline models
* :mod:`.evaluation` task metrics, strategy comparison (McNemar) and the report
* :mod:`.mrml`       the Slicer scene side (takes a ``vtkMRMLScene``)
* :mod:`.gradcam`, :mod:`.recommendation`, :mod:`.roi`, :mod:`.inference`,
  :mod:`.model_files` and :mod:`.cli` for heat maps, the suitability check, the
  mapping ROI, volume inference, model bundles and the ``umsrep`` command.
"""

__version__ = "0.1.0"
