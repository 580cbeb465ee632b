// The empty folder `gamelayer init` points a tree at when the build has nothing for it (an empty tree is valid).
// Its own module: the scan names it in an error without loading init's layout detection.
export const EMPTY_TREE_DIR = 'gamelayer-empty';
