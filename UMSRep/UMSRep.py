import logging
from typing import Annotated

import qt
import slicer
import vtk
from slicer import vtkMRMLScalarVolumeNode, vtkMRMLSegmentationNode, vtkMRMLTableNode
from slicer.parameterNodeWrapper import WithinRange, parameterNodeWrapper
from slicer.ScriptedLoadableModule import (
    ScriptedLoadableModule,
    ScriptedLoadableModuleLogic,
    ScriptedLoadableModuleTest,
    ScriptedLoadableModuleWidget,
)
from slicer.util import VTKObservationMixin

#: The mapping module this one hands the liver ROI to (see UMSRepLib.mrml.handoff).
MAPPING_MODULE = "QMRIMapping"
DEFAULT_MODEL = "liver_mr"

#: Python packages the core needs, as (import name, pip requirement); torch is separate.
CORE_REQUIREMENTS = (
    ("numpy", "numpy"), ("scipy", "scipy"), ("SimpleITK", "SimpleITK"), ("yaml", "pyyaml"),
    ("tqdm", "tqdm"),
)


#
# UMSRep
#


class UMSRep(ScriptedLoadableModule):
    """UMS-Rep liver analysis: shared-representation heads. The work lives in UMSRepLib."""

    def __init__(self, parent):
        ScriptedLoadableModule.__init__(self, parent)
        self.parent.title = "UMSRep Liver Analysis"
        self.parent.categories = ["Quantification"]
        self.parent.dependencies = []
        self.parent.contributors = ["SlicerMultiTaskQMRI contributors"]
        self.parent.helpText = (
            "Run task heads that share one learned image representation on a liver MR "
            "volume: liver segmentation, image quality (clean, motion, noise) and tissue "
            "state, a Grad-CAM heat map of what the classifier looked at, and a "
            "recommendation whether the image is suitable for relaxometry mapping. The "
            "liver ROI can be handed to QMRI Mapping with one click. Command line: "
            "<code>umsrep</code>. See <a href='https://github.com/SlicerMultiTaskQMRI/"
            "SlicerMultiTaskQMRI'>the project page</a>."
        )
        self.parent.acknowledgementText = (
            "Implements UMS-Rep: Zamzmi G, Rajaraman S, Antani S. UMS-Rep: Unified "
            "modality-specific representation for efficient medical image analysis. "
            "Informatics in Medicine Unlocked 2021;24:100571. Developed by the "
            "SlicerMultiTaskQMRI contributors; the shipped model is trained on the "
            "project's digital liver phantom only."
        )


#
# UMSRepParameterNode
#


@parameterNodeWrapper
class UMSRepParameterNode:
    """Module state saved with the scene; widgets bind to it by SlicerParameterName."""

    inputVolume: vtkMRMLScalarVolumeNode
    model: str = DEFAULT_MODEL
    segmentation: vtkMRMLSegmentationNode
    probabilityTable: vtkMRMLTableNode
    heatmapVolume: vtkMRMLScalarVolumeNode
    showHeatmap: bool = True
    heatmapOpacity: Annotated[float, WithinRange(0.0, 1.0)] = 0.5


#
# UMSRepWidget
#


class UMSRepWidget(ScriptedLoadableModuleWidget, VTKObservationMixin):
    """The module panel: volume and model, Analyze, outputs, recommendation, hand-off."""

    def __init__(self, parent=None):
        ScriptedLoadableModuleWidget.__init__(self, parent)
        VTKObservationMixin.__init__(self)
        self.logic = None
        self._parameterNode = None
        self._parameterNodeGuiTag = None
        self._lastAnalysis = None

    def setup(self):
        ScriptedLoadableModuleWidget.setup(self)
        uiWidget = slicer.util.loadUI(self.resourcePath("UI/UMSRep.ui"))
        self.layout.addWidget(uiWidget)
        self.ui = slicer.util.childWidgetVariables(uiWidget)
        uiWidget.setMRMLScene(slicer.mrmlScene)
        self.logic = UMSRepLogic()
        self._populateModels()

        self.addObserver(slicer.mrmlScene, slicer.mrmlScene.StartCloseEvent, self.onSceneStartClose)
        self.addObserver(slicer.mrmlScene, slicer.mrmlScene.EndCloseEvent, self.onSceneEndClose)

        self.ui.modelComboBox.currentIndexChanged.connect(self.onModelChanged)
        self.ui.analyzeButton.clicked.connect(self.onAnalyze)
        self.ui.useAsRoiButton.clicked.connect(self.onUseAsRoi)
        self.ui.heatmapOpacitySlider.valueChanged.connect(self.onOpacityChanged)
        self.ui.showHeatmapCheckBox.toggled.connect(self.onShowHeatmapToggled)
        self.ui.useAsRoiButton.enabled = False

        self.initializeParameterNode()

    def cleanup(self):
        self.removeObservers()
        self._disconnectParameterNode()

    def enter(self):
        self.initializeParameterNode()

    def exit(self):
        self._disconnectParameterNode()

    def onSceneStartClose(self, caller, event):
        self._disconnectParameterNode()
        self._parameterNode = None
        self._lastAnalysis = None

    def onSceneEndClose(self, caller, event):
        if self.parent.isEntered:
            self.initializeParameterNode()

    # --- parameter node ---------------------------------------------------------------------

    def initializeParameterNode(self):
        self.setParameterNode(self.logic.getParameterNode())
        if self._parameterNode and not self._parameterNode.inputVolume:
            first = slicer.mrmlScene.GetFirstNodeByClass("vtkMRMLScalarVolumeNode")
            if first:
                self._parameterNode.inputVolume = first

    def setParameterNode(self, inputParameterNode):
        self._disconnectParameterNode()
        self._parameterNode = inputParameterNode
        if self._parameterNode:
            self._parameterNodeGuiTag = self._parameterNode.connectGui(self.ui)
            self.addObserver(self._parameterNode, vtk.vtkCommand.ModifiedEvent,
                             self._updateFromParameterNode)
            self._updateFromParameterNode()

    def _disconnectParameterNode(self):
        if self._parameterNode and self._parameterNodeGuiTag:
            self._parameterNode.disconnectGui(self._parameterNodeGuiTag)
            self._parameterNodeGuiTag = None
            self.removeObserver(self._parameterNode, vtk.vtkCommand.ModifiedEvent,
                                self._updateFromParameterNode)

    def _updateFromParameterNode(self, caller=None, event=None):
        node = self._parameterNode
        if not node:
            return
        index = self.ui.modelComboBox.findData(node.model)
        if index >= 0 and self.ui.modelComboBox.currentIndex != index:
            self.ui.modelComboBox.currentIndex = index
        self.ui.analyzeButton.enabled = bool(node.inputVolume) and self.ui.modelComboBox.count > 0
        self.ui.useAsRoiButton.enabled = self._lastAnalysis is not None
        if node.probabilityTable:
            self.ui.probabilityTableView.setMRMLTableNode(node.probabilityTable)

    def _populateModels(self):
        self.ui.modelComboBox.clear()
        models = self.logic.availableModels()
        for name, description in models:
            self.ui.modelComboBox.addItem(name, name)
            self.ui.modelComboBox.setItemData(self.ui.modelComboBox.count - 1, description,
                                              qt.Qt.ToolTipRole)
        if not models:
            self.ui.statusLabel.text = "No UMSRep model is installed (see umsrep reproduce)."

    # --- actions ----------------------------------------------------------------------------

    def onModelChanged(self, index=None):
        if self._parameterNode:
            self._parameterNode.model = self.ui.modelComboBox.currentData or DEFAULT_MODEL

    def onAnalyze(self):
        node = self._parameterNode
        if not node or not node.inputVolume:
            slicer.util.errorDisplay("Pick a volume first.")
            return
        if not self.logic.ensureDependencies():
            return
        with slicer.util.tryWithErrorDisplay("The analysis failed.", waitCursor=True):
            analysis = self.logic.analyze(
                node.inputVolume, model=node.model, segmentationNode=node.segmentation,
                tableNode=node.probabilityTable, heatmapNode=node.heatmapVolume,
                showHeatmap=node.showHeatmap, opacity=node.heatmapOpacity)
            self._lastAnalysis = analysis
            node.segmentation = analysis.segmentation
            node.probabilityTable = analysis.table
            if analysis.heatmap is not None:
                node.heatmapVolume = analysis.heatmap
            self._showRecommendation(analysis)
        self._updateFromParameterNode()

    def _showRecommendation(self, analysis):
        decision = analysis.analysis.recommendation
        colour = "#2e7d32" if decision.suitable else "#c62828"
        self.ui.recommendationLabel.text = (
            f"<b style='color:{colour}'>{'Suitable' if decision.suitable else 'Not suitable'}"
            f"</b> for mapping<br>{decision.reason}")
        self.ui.statusLabel.text = (f"Analysed '{analysis.volume.GetName()}' with "
                                    f"{analysis.model_name}")

    def onUseAsRoi(self):
        if self._lastAnalysis is None:
            slicer.util.errorDisplay("Run the analysis first.")
            return
        with slicer.util.tryWithErrorDisplay("The ROI could not be handed over.", waitCursor=True):
            roiNode = self.logic.useAsRoiInQMRIMapping(self._lastAnalysis)
            self.ui.statusLabel.text = f"'{roiNode.GetName()}' is the ROI of {MAPPING_MODULE}"
            slicer.util.selectModule(MAPPING_MODULE)

    def onOpacityChanged(self, value):
        self.logic.setOverlayOpacity(value)

    def onShowHeatmapToggled(self, checked):
        node = self._parameterNode
        if node and node.heatmapVolume:
            self.logic.setOverlayOpacity(node.heatmapOpacity if checked else 0.0)


#
# UMSRepLogic
#


class UMSRepLogic(ScriptedLoadableModuleLogic):
    """Thin adapter from Slicer to the pure-Python core (UMSRepLib).

    The core (and torch) is imported inside the methods, so the module loads even where
    torch is not installed yet. The MRML work is done by ``UMSRepLib.mrml`` on the scene
    passed to it.

    Console use (Python Interactor)::

        logic = slicer.util.getModuleLogic("UMSRep")
        analysis = logic.analyze(getNode("T1rho 0"))
        analysis.recommendation          # "suitable for mapping: ..." or the reason not
        roi = logic.createLiverRoi(getNode("T1rho 0"))   # the QMRIMapping hand-off
    """

    def __init__(self):
        ScriptedLoadableModuleLogic.__init__(self)
        self._bundles = {}

    def getParameterNode(self):
        return UMSRepParameterNode(super().getParameterNode())

    # --- core facts -------------------------------------------------------------------------

    def coreVersion(self):
        import UMSRepLib

        return UMSRepLib.__version__

    def availableModels(self):
        """(name, description) of the shipped model bundles."""
        import json

        from UMSRepLib.model_files import CARD, shipped_bundles

        models = []
        for folder in shipped_bundles():
            try:
                card = json.loads((folder / CARD).read_text(encoding="utf-8"))
                tasks = ", ".join(t["name"] for t in card.get("tasks", []))
                models.append((folder.name, f"{card.get('name', folder.name)}: {tasks}"))
            except (OSError, ValueError) as error:
                logging.warning("UMSRep: skipping model %s: %s", folder, error)
        return models

    def loadModel(self, model=DEFAULT_MODEL):
        """The verified bundle of a shipped model name or folder (cached)."""
        from UMSRepLib.model_files import load_bundle, resolve_bundle

        key = str(model)
        if key not in self._bundles:
            self._bundles[key] = load_bundle(resolve_bundle(model))
        return self._bundles[key]

    # --- dependencies -----------------------------------------------------------------------

    def missingPackages(self):
        import importlib.util

        missing = [pip for name, pip in CORE_REQUIREMENTS if importlib.util.find_spec(name) is None]
        if importlib.util.find_spec("torch") is None:
            missing.append("torch")
        return missing

    def ensureDependencies(self, askConfirmation=True):
        """Install what the core needs on first use, after the user agreed."""
        missing = self.missingPackages()
        if not missing:
            return True
        if askConfirmation and not slicer.util.confirmOkCancelDisplay(
                "UMSRep needs these Python packages, which will be downloaded and installed "
                f"now: {', '.join(missing)}.", "Install Python packages"):
            return False
        with slicer.util.WaitCursor():
            if "torch" in missing:
                missing.remove("torch")
                try:
                    import PyTorchUtils

                    PyTorchUtils.PyTorchUtilsLogic().installTorch(askConfirmation=False)
                except ImportError:
                    slicer.util.pip_install("torch")
            if missing:
                slicer.util.pip_install(" ".join(missing))
        return not self.missingPackages()

    # --- analysis ---------------------------------------------------------------------------

    def analyze(self, volumeNode, model=DEFAULT_MODEL, segmentationNode=None, tableNode=None,
                heatmapNode=None, showHeatmap=True, opacity=0.5, heatmapTask=None):
        """Run the heads on ``volumeNode``; returns UMSRepLib.mrml.analysis.AnalysisNodes."""
        from UMSRepLib.mrml.analysis import analyse_volume_node

        return analyse_volume_node(slicer.mrmlScene, volumeNode, self.loadModel(model),
                                   segmentation_node=segmentationNode, table_node=tableNode,
                                   heatmap_node=heatmapNode, show=showHeatmap,
                                   opacity=opacity, heatmap_task=heatmapTask,
                                   logic=self._segmentationsLogic())

    def createLiverRoi(self, volumeNode, segmentationNode=None, model=DEFAULT_MODEL):
        """QMRIMapping's automatic-ROI contract (QMRIMappingLogic.automaticRoi).

        Returns a segmentation node holding one segment, "Right lobe ROI", on
        ``volumeNode``'s grid (into ``segmentationNode`` when given).
        """
        from QMRIMappingLib.mrml import volumes
        from UMSRepLib.inference import analyse_volume
        from UMSRepLib.mrml.handoff import mapping_roi_node

        bundle = self.loadModel(model)
        geometry = volumes.geometry_from_node(volumeNode)
        result = analyse_volume(bundle, volumes.array_from_node(volumeNode), geometry.spacing,
                                geometry.direction_matrix)
        return mapping_roi_node(slicer.mrmlScene, volumeNode, result.roi_mask,
                                str(bundle.card.get("name", model)), segmentationNode,
                                self._segmentationsLogic())

    def useAsRoiInQMRIMapping(self, analysis, roiNode=None):
        """Hand the ROI of ``analysis`` (AnalysisNodes) to QMRIMapping's parameter node."""
        from UMSRepLib.mrml.handoff import mapping_roi_node

        node = mapping_roi_node(slicer.mrmlScene, analysis.volume, analysis.analysis.roi_mask,
                                analysis.model_name, roiNode, self._segmentationsLogic())
        modules = getattr(slicer, "modules", None)
        if modules is not None and hasattr(modules, MAPPING_MODULE.lower()):
            parameterNode = slicer.util.getModuleLogic(MAPPING_MODULE).getParameterNode()
            parameterNode.roiSegmentation = node
        return node

    def setOverlayOpacity(self, opacity):
        from UMSRepLib.mrml.display import set_overlay_opacity

        set_overlay_opacity(slicer.mrmlScene, opacity)

    def _segmentationsLogic(self):
        modules = getattr(slicer, "modules", None)
        segmentations = getattr(modules, "segmentations", None) if modules else None
        return segmentations.logic() if segmentations is not None else None


#
# UMSRepTest
#


class UMSRepTest(ScriptedLoadableModuleTest):
    """Self-test of the module. It runs only inside Slicer (Reload and Test, or ctest):
    it cannot run in the project's test suite, which has no Slicer application. Its logic
    path is covered there by pytest against the MRML libraries of slicer-core
    (tests/test_umsrep_mrml.py)."""

    def setUp(self):
        slicer.mrmlScene.Clear()

    def runTest(self):
        self.setUp()
        self.test_UMSRepCoreImport()
        self.setUp()
        self.test_UMSRepPhantom()

    def test_UMSRepCoreImport(self):
        self.delayDisplay("Importing the core library")
        import UMSRepLib

        self.assertEqual(UMSRepLogic().coreVersion(), UMSRepLib.__version__)
        self.delayDisplay("Test passed")

    def test_UMSRepPhantom(self):
        """Phantom volume -> liver segment, probabilities, heat map, recommendation, ROI."""
        from QMRIMappingLib.mrml.volumes import add_volume_node
        from QMRIMappingLib.phantom import generate_subject

        logic = UMSRepLogic()
        if not logic.availableModels():
            self.skipTest("no UMSRep model installed")
        subject = generate_subject(4, matrix=128, n_slices=3, snr=60.0)
        volume = add_volume_node(slicer.mrmlScene, subject.images[0].data, subject.geometry,
                                 "phantom shared image")
        self.delayDisplay("Analysing the phantom volume")
        analysis = logic.analyze(volume)
        self.assertGreater(int(analysis.analysis.liver_mask.sum()), 0)
        self.assertIsNotNone(analysis.heatmap)
        self.assertTrue(analysis.recommendation)
        roi = logic.createLiverRoi(volume)
        self.assertEqual(roi.GetSegmentation().GetNumberOfSegments(), 1)
        self.delayDisplay("Test passed")
