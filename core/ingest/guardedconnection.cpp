#include "guardedconnection.h"
