"""QMRIMappingLib: the pure-Python core of the QMRIMapping Slicer module.

It imports no Qt and no Slicer application code, so it runs in a batch script, in the
``qmri`` command and inside Slicer alike.
"""

__version__ = "0.1.0"
