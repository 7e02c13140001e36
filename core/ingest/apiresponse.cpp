#include "apiresponse.h"
