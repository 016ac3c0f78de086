import QtQuick

// An image attachment shown small, for lists and grids of photos: a square of
// `size` pixels that the image fills (cropped, aspect ratio kept). It is
// loaded scaled down to fill that square (its shorter side `size` pixels:
// never the full image), on Qt Quick's loader thread (not the GUI thread),
// and kept in Qt Quick's image cache, so that scrolling back does not load it
// again.
//
//   AttachmentThumbnail { localUrl: model.localUrl; size: 96 }
//
// localUrl is empty until the file is on the device: nothing is shown then.
Image {
    // The local file: the localUrl role of an AttachmentModel row, or
    // Attachment.localUrl.
    property url localUrl
    // The side of the square, in pixels.
    property int size: 64

    source: localUrl
    sourceSize.width: size
    sourceSize.height: size
    width: size
    height: size
    fillMode: Image.PreserveAspectCrop
    clip: true
    asynchronous: true
    cache: true
}
