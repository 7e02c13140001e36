#include "httpserveradapter.h"
