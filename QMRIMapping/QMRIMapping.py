import ctk
import qt
import slicer
from slicer.ScriptedLoadableModule import (
    ScriptedLoadableModule,
    ScriptedLoadableModuleLogic,
    ScriptedLoadableModuleTest,
    ScriptedLoadableModuleWidget,
)


class QMRIMapping(ScriptedLoadableModule):
    """Liver T1rho/T2 relaxometry mapping. The computation lives in QMRIMappingLib."""

    def __init__(self, parent):
        ScriptedLoadableModule.__init__(self, parent)
        self.parent.title = "QMRI Mapping"
        self.parent.categories = ["Quantification"]
        self.parent.dependencies = []
        self.parent.contributors = ["SlicerMultiTaskQMRI contributors"]
        self.parent.helpText = (
            "Fit T1rho and T2 maps of the liver from spin-lock, T2-prepared or multi-echo "
            "series (DICOM, NIfTI or NRRD), by nonlinear least squares or multi-task "
            "networks. See <a href='https://github.com/SlicerMultiTaskQMRI/SlicerMultiTaskQMRI'>"
            "the project page</a>."
        )
        self.parent.acknowledgementText = (
            "Developed by the SlicerMultiTaskQMRI contributors. The same core library "
            "(QMRIMappingLib) also runs from the command line as <code>qmri</code>."
        )


class QMRIMappingWidget(ScriptedLoadableModuleWidget):
    """Module panel. For now it only says what the module is; the mapping UI comes later."""

    def setup(self):
        ScriptedLoadableModuleWidget.setup(self)

        aboutCollapsibleButton = ctk.ctkCollapsibleButton()
        aboutCollapsibleButton.text = "About"
        self.layout.addWidget(aboutCollapsibleButton)
        aboutLayout = qt.QVBoxLayout(aboutCollapsibleButton)

        self.logic = QMRIMappingLogic()
        try:
            core = f"QMRIMappingLib {self.logic.coreVersion()} is loaded."
        except ImportError as error:
            core = f"QMRIMappingLib could not be imported: {error}."
        self.aboutLabel = qt.QLabel(
            f"{core} The mapping panel is not available yet; meanwhile call "
            "QMRIMappingLogic().fitFolder(inputPath, outputPath) from the Python console, "
            "or run the qmri command.")
        self.aboutLabel.wordWrap = True
        aboutLayout.addWidget(self.aboutLabel)

        self.layout.addStretch(1)


class QMRIMappingLogic(ScriptedLoadableModuleLogic):
    """Thin adapter from Slicer to the pure-Python core (QMRIMappingLib).

    The core is imported inside the methods, so a missing optional dependency of the
    core (such as torch) cannot stop the module from loading when Slicer starts.
    """

    def coreVersion(self):
        """Version string of the QMRIMappingLib that this module runs."""
        import QMRIMappingLib

        return QMRIMappingLib.__version__

    def fitFolder(self, inputPath, outputPath, method="nlls", roiPath=None, overwrite=False):
        """Fit the maps of the series in inputPath and write them to outputPath.

        method is "nlls" or a network method of the core; roiPath optionally limits the fit
        to a labelmap or segmentation file. Returns the summary dictionary of
        QMRIMappingLib.pipeline.run_fit; input errors raise QMRIMappingLib's UserInputError,
        which the caller (the panel, a script) reports.
        """
        from QMRIMappingLib.pipeline import run_fit

        return run_fit(inputPath, outputPath, method=method, roi=roiPath, overwrite=overwrite)


class QMRIMappingTest(ScriptedLoadableModuleTest):
    """Self-test of the module. It runs only inside Slicer (Reload and Test, or ctest);
    the core is tested with pytest outside Slicer."""

    def setUp(self):
        slicer.mrmlScene.Clear()

    def runTest(self):
        self.setUp()
        self.test_QMRIMappingCoreImport()

    def test_QMRIMappingCoreImport(self):
        self.delayDisplay("Importing the core library")
        import QMRIMappingLib

        self.assertEqual(QMRIMappingLogic().coreVersion(), QMRIMappingLib.__version__)
        self.delayDisplay("Test passed")
