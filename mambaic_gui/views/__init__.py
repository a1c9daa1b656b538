"""Image views: panes on pyqtgraph ViewBoxes, the comparison layout, the error heatmap."""
