#include "guardedtcpserver.h"
