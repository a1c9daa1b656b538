"""Image ⇄ ``.mic`` bytes: image input, padding and tiling, the container, atomic writes, the codec.

Nothing here is imported eagerly by ``mambaic`` except the torch-free container reader, so that
``mambaic.read_info`` stays cheap for the GUI and the command line.
"""
