#pragma once

#include <QHostAddress>
#include <QList>
#include <QString>

namespace SiteRelay {

/**
 * Where tablets on the clinic network can reach this server, for the dashboard and the command
 * line to show and to put into enrollment QR codes. Thread-safe (reads the interface list).
 */
class EnrollmentAddresses
{
public:
    /**
     * The IPv4 addresses of interfaces that are up, running and not loopback, in interface order;
     * when @p bindAddress is a specific address (not 0.0.0.0 / ::), just that one. Empty when the
     * machine has no such interface (then only this machine can reach the server).
     */
    static QList<QHostAddress> lanAddresses(const QHostAddress &bindAddress = QHostAddress::AnyIPv4);
    /// "http://ADDR:PORT" for each of lanAddresses(); "http://127.0.0.1:PORT" if there is none.
    static QStringList siteUrls(const QHostAddress &bindAddress, quint16 port);
};

} // namespace SiteRelay
