#include "statuswindow.h"
