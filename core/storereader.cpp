#include "storereader.h"
