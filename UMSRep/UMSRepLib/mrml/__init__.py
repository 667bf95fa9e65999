"""MRML logic of the UMSRep module: the scene side of running the heads, without Qt.

Every function takes the ``vtkMRMLScene`` (or nodes of it) it works on and never reaches
for ``slicer.mrmlScene`` or ``slicer.app``, so the same code runs in 3D Slicer, in a
batch script and in the tests against the MRML libraries of the ``slicer-core`` wheel.
Volume <-> array conversion and segmentation import are QMRIMapping's
(:mod:`QMRIMappingLib.mrml.volumes`, :mod:`QMRIMappingLib.mrml.roi`), so both modules
put voxels on a grid the same way.

* :mod:`.analysis` - run a bundle on a volume node: liver segmentation node, class
  probability / quality table, Grad-CAM heat-map overlay and the recommendation text
* :mod:`.display`  - the heat-map colour table and the slice-view overlay
* :mod:`.handoff`  - the seam to QMRIMapping: a segmentation node holding only the
  mapping ROI, marked with where it came from
"""
