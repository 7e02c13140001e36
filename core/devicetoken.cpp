#include "devicetoken.h"
