"""MRML logic of the QMRIMapping module: the scene side of mapping, without Qt.

Every function here takes the ``vtkMRMLScene`` (or nodes of it) that it works on and never
reaches for ``slicer.mrmlScene`` or ``slicer.app``, so the same code runs inside 3D Slicer,
in a batch script and in the test suite against the MRML libraries of the ``slicer-core``
wheel. The scripted module's Logic class is a thin adapter over :class:`MappingRun`.

Modules, one purpose each:

* :mod:`.scene`      app-free scene creation and ``.mrb`` save/load
* :mod:`.volumes`    volume nodes <-> numpy arrays with their IJK->RAS geometry
* :mod:`.hierarchy`  subject hierarchy placement (study and result folder)
* :mod:`.inputs`     weighted volumes, sequences and imported folders -> MappingInput
* :mod:`.roi`        segmentation nodes <-> boolean masks on the image grid
* :mod:`.colors`     colour tables of the maps and of the status codes
* :mod:`.outputs`    fitted maps -> volume nodes with display, units and attributes
* :mod:`.tables`     ROI statistics and RMAE table node
* :mod:`.plots`      signal decay plots (ROI mean and a picked voxel)
* :mod:`.tracking`   what a run added, so Cancel can take it out again
* :mod:`.session`    :class:`MappingRun`: the whole job in cancellable steps
* :mod:`.exports`    a finished run's maps and ROI written as files (NRRD, NIfTI, DICOM)
"""
