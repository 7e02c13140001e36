#include "processinfo.h"
