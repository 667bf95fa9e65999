"""Shared multi-task learning machinery used by every module of the extension.

Loss weighting (fixed, homoscedastic uncertainty, dynamic weight average), the training
loop and the metrics live here once; QMRIMapping and UMSRep import them.
"""
