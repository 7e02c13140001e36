#include "commandline.h"
#include "compositionroot.h"
#include "devicecommands.h"
#include "exportcommand.h"

#include <QApplication>
#include <QCoreApplication>
#include <QGuiApplication>
#include <QTextStream>

#include <memory>

using namespace Qt::Literals::StringLiterals;
using namespace SiteRelay;

namespace {

bool hasDisplay()
{
    return qEnvironmentVariableIsSet("DISPLAY") || qEnvironmentVariableIsSet("WAYLAND_DISPLAY") ||
           qEnvironmentVariableIsSet("QT_QPA_PLATFORM");
}

} // namespace

int main(int argc, char *argv[])
{
    // Set before anything asks QStandardPaths for the data folder.
    QCoreApplication::setOrganizationName(u"SiteRelay"_s);
    QCoreApplication::setApplicationName(u"siterelay"_s);
    QCoreApplication::setApplicationVersion(QStringLiteral(SITERELAY_VERSION));
    qSetMessagePattern(u"%{time yyyy-MM-ddTHH:mm:ss.zzz} %{if-debug}D%{endif}%{if-info}I%{endif}%{if-warning}W%{endif}"
                       u"%{if-critical}C%{endif}%{if-fatal}F%{endif} %{category}: %{message}"_s);

    QStringList arguments;
    for (int i = 0; i < argc; ++i)
        arguments.append(QString::fromLocal8Bit(argv[i]));
    QTextStream out(stdout);
    QTextStream err(stderr);
    auto commandLine = CommandLine::parse(arguments);
    if (!commandLine) {
        err << "siterelay: " << commandLine.error().message << Qt::endl << "Try 'siterelay --help'." << Qt::endl;
        return 2;
    }
    switch (commandLine->command) {
    case CommandLine::Command::Help:
        out << commandLine->helpText;
        return 0;
    case CommandLine::Command::Version:
        out << "siterelay " << SITERELAY_VERSION << Qt::endl;
        return 0;
    case CommandLine::Command::DeviceAdd:
    case CommandLine::Command::DeviceList:
    case CommandLine::Command::DeviceRevoke: {
        QCoreApplication app(argc, argv);
        return runDeviceCommand(*commandLine, out, err);
    }
    case CommandLine::Command::Export: {
        QCoreApplication app(argc, argv);
        return runExportCommand(*commandLine, out, err);
    }
    case CommandLine::Command::Serve:
        break;
    }

    const bool withWindow = !commandLine->headless && hasDisplay();
    std::unique_ptr<QCoreApplication> app;
    if (withWindow) {
        app = std::make_unique<QApplication>(argc, argv);
    } else {
        // PDF reports need a QGuiApplication (fonts, painting) even without a display.
        if (!qEnvironmentVariableIsSet("QT_QPA_PLATFORM"))
            qputenv("QT_QPA_PLATFORM", "offscreen");
        app = std::make_unique<QGuiApplication>(argc, argv);
    }
    CompositionRoot root(*commandLine);
    return root.run(withWindow);
}
