// Deliberately wrong: qmllint must name the types as QML code spells them.
import QtQml
import PowerSync.Attachments

QtObject {
    property int state: AttachmentState.NoSuchState
    property int code: AttachmentError.NoSuchCode
}
