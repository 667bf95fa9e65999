"""The UMS-Rep networks: a shared strided-convolution encoder and light task heads.

* :mod:`.spec`        ``ArchitectureSpec``: every size the networks are built from
* :mod:`.blocks`      convolution + batch norm + ReLU building blocks, channels-last layout
* :mod:`.encoder`     ``SharedEncoder`` (strided 3x3 convolutions, no pooling) with freezing
* :mod:`.decoders`    ``ReconstructionDecoder`` (denoising head) and ``SegmentationDecoder``
* :mod:`.classifier`  ``ClassificationHead`` (global average pooling, FC, dropout)
* :mod:`.model`       ``UMSRepModel``: one encoder, a head per task, heads attach later
* :mod:`.factory`     build encoders, heads and whole models from a spec and tasks
"""

from .encoder import SharedEncoder
from .factory import build_encoder, build_head, build_model, count_parameters
from .model import UMSRepModel
from .spec import ArchitectureSpec

__all__ = ["ArchitectureSpec", "SharedEncoder", "UMSRepModel", "build_encoder", "build_head",
           "build_model", "count_parameters"]
